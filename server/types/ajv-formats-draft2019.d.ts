// The package ships no types; this is the one check server/formats.ts uses.
declare module 'ajv-formats-draft2019/formats/idn-email' {
  export default function isIdnEmail(value: string): boolean;
}
