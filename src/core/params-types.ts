/** A parameter value after validation: what runners may receive. `null` means "not given". */
export type ParamValue = string | number | boolean | null;

declare const validatedBrand: unique symbol;

/**
 * A parameter set that has passed validation for one action. Only `validateParams`
 * (core/params.ts) creates one, so raw request input cannot reach a runner by accident.
 */
export interface ValidatedParams {
  readonly [validatedBrand]: true;
  readonly actionId: string;
  readonly values: Readonly<Record<string, ParamValue>>;
}
