// The package ships no types; these are the two entry points server/formats.ts uses.
declare module 'ajv-formats-draft2019' {
  import type Ajv from 'ajv';
  export default function addFormats<A extends Ajv>(ajv: A, options?: { formats?: string[] }): A;
}
declare module 'ajv-formats-draft2019/formats/idn-email' {
  export default function isIdnEmail(value: string): boolean;
}
