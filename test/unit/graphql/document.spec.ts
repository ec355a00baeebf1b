import { maskLiterals, operationOf } from '../../../lib/instrumentations/graphql/document.js';

describe('GraphQL document reading', () => {
  it('finds the operation that runs', () => {
    expect(operationOf('query OrderById($id: ID = {a: 1}) { order(id: $id) { id } }')).toEqual({
      type: 'query',
      name: 'OrderById',
    });
    expect(operationOf('{ orders { id } }')).toEqual({ type: 'query' });
    expect(operationOf('fragment F on Order { id } mutation PlaceOrder { place { ...F } }')).toEqual({
      type: 'mutation',
      name: 'PlaceOrder',
    });
    expect(operationOf('query A { a } mutation B { b }', 'B')).toEqual({ type: 'mutation', name: 'B' });
    expect(operationOf('query A { a } query B { b }')).toEqual({});
    expect(operationOf('# query Fake { x }\n subscription @live { s }')).toEqual({ type: 'subscription' });
    expect(operationOf('query Q { a(s: "{ not a brace") }')).toEqual({ type: 'query', name: 'Q' });
    expect(operationOf(undefined, 'Named')).toEqual({});
    expect(operationOf('not graphql at all ]]')).toEqual({});
  });

  it('masks every literal value, block strings and escapes included', () => {
    const masked = maskLiterals(
      'query Q($t: String = "se\\"cret") { login(password: "hunter2", pin: 1234, n: -1.5e3, s: """a "b" \\""" c""") { token } } # hunter2',
    );
    expect(masked).toBe('query Q($t:String="*"){login(password:"*" pin:* n:* s:"*"){token}}');
    expect(masked).not.toMatch(/hunter2|1234|cret/);
  });
});
