// Part of compiling ESM packages to CommonJS for Jest (see jest.config.js): an ES module
// that writes `const require = createRequire(import.meta.url)` gets, once compiled to
// CommonJS, a `require` of its own already, and the redeclaration would shadow it.
module.exports = function dropCreateRequire({ types: t }) {
  return {
    name: 'drop-create-require',
    visitor: {
      VariableDeclarator(path) {
        const { id, init } = path.node;
        if (t.isIdentifier(id, { name: 'require' }) && t.isCallExpression(init) && t.isIdentifier(init.callee, { name: 'createRequire' })) {
          path.remove();
        }
      },
    },
  };
};
