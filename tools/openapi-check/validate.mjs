// Validates an OpenAPI document (the one `custos serve` publishes at
// /api/v1/openapi.json) against the OpenAPI 3.1 schema, with
// @seriousme/openapi-schema-validator, and resolves every $ref.
//
//   node validate.mjs openapi.json
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";

const file = process.argv[2];
if (!file) {
  console.error("usage: node validate.mjs openapi.json");
  process.exit(2);
}
const doc = JSON.parse(readFileSync(file, "utf8"));
const validator = new Validator();
const result = await validator.validate(doc);
if (!result.valid) {
  console.error(`${file}: not a valid OpenAPI ${validator.version} document`);
  console.error(JSON.stringify(result.errors, null, 2));
  process.exit(1);
}
// Every $ref resolves.
try {
  validator.resolveRefs();
} catch (e) {
  console.error(`${file}: ${e.message}`);
  process.exit(1);
}
const ops = Object.values(doc.paths).reduce((n, item) => n + Object.keys(item).length, 0);
console.log(`${file}: valid OpenAPI ${validator.version}, ${ops} operations`);
