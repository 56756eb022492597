// As in the Nest docs (https://docs.nestjs.com/recipes/passport, "Implementing Passport JWT").
export const jwtConstants = {
  secret: 'DO NOT USE THIS VALUE. INSTEAD, CREATE A COMPLEX SECRET AND KEEP IT SAFE OUTSIDE OF THE SOURCE CODE.',
};
