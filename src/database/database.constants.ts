/** Injection token of the opened and migrated `Database`. */
export const DATABASE = Symbol('DATABASE');
