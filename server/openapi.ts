// openapi.yaml is the contract: requests are validated against it here (and responses too when
// VALIDATE_RESPONSES is on, as in the test suite).
import path from 'node:path';
import * as OpenApiValidator from 'express-openapi-validator';

export const specPath = path.resolve(__dirname, '..', 'openapi.yaml');

export function validateAgainstSpec(validateResponses: boolean) {
  return OpenApiValidator.middleware({
    apiSpec: specPath,
    validateRequests: { allowUnknownQueryParameters: false, removeAdditional: false },
    validateResponses: validateResponses ? { removeAdditional: false } : false,
    validateFormats: true,
    ajvFormats: { mode: 'full' },
    ignorePaths: /^\/(health|ready|docs|openapi\.yaml)/,
  });
}
