// The HTTP edge: express app, routes, token checks, OpenAPI and paging.
export * from './auth.ts';
export * from './route.ts';
export * from './page.ts';
export * from './openapi.ts';
export * from './app.ts';
