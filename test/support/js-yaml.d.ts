// js-yaml ships with @pulumi/pulumi (a dependency of ours); only the call the stack tests use.
declare module 'js-yaml' {
  export function load(text: string): unknown;
}
