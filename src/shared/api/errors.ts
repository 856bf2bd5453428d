import { z } from 'zod';

/** Every error that crosses the API boundary has one of these codes, so callers can branch on it. */
export const apiErrorCodes = [
  'INVALID_PARAMS',
  'UNKNOWN_METHOD',
  'NOT_FOUND',
  'CONFLICT',
  'FAILED_PRECONDITION',
  'UNAVAILABLE',
  'CANCELLED',
  'UNAUTHORIZED',
  'INTERNAL',
] as const;
export type ApiErrorCode = (typeof apiErrorCodes)[number];

export const apiIssueSchema = z.object({ path: z.string(), message: z.string() });
export type ApiIssue = z.infer<typeof apiIssueSchema>;

export const apiErrorDataSchema = z.object({
  code: z.enum(apiErrorCodes),
  message: z.string(),
  /** Dotted path of the first offending field, for INVALID_PARAMS. */
  field: z.string().optional(),
  issues: z.array(apiIssueSchema).optional(),
  /** What the user can do about it. */
  hint: z.string().optional(),
});
export type ApiErrorData = z.infer<typeof apiErrorDataSchema>;

export class ApiError extends Error {
  readonly code: ApiErrorCode;
  readonly field: string | undefined;
  readonly issues: ApiIssue[] | undefined;
  readonly hint: string | undefined;

  constructor(
    code: ApiErrorCode,
    message: string,
    extra: { field?: string; issues?: ApiIssue[]; hint?: string } = {},
  ) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.field = extra.field;
    this.issues = extra.issues;
    this.hint = extra.hint;
  }

  toData(): ApiErrorData {
    const data: ApiErrorData = { code: this.code, message: this.message };
    if (this.field !== undefined) data.field = this.field;
    if (this.issues !== undefined) data.issues = this.issues;
    if (this.hint !== undefined) data.hint = this.hint;
    return data;
  }

  static fromData(data: ApiErrorData): ApiError {
    return new ApiError(data.code, data.message, { field: data.field, issues: data.issues, hint: data.hint });
  }
}

export function isApiError(e: unknown): e is ApiError {
  return e instanceof ApiError;
}

/** Formats a zod issue path as `a.b[2].c`, the form error messages and the `field` property use. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}

/** Turns a failed zod parse into an INVALID_PARAMS error that names the field and says what was expected. */
export function invalidParams(what: string, error: z.ZodError): ApiError {
  const issues = error.issues.map((issue) => ({ path: formatPath(issue.path), message: issue.message }));
  const first = issues[0] ?? { path: '', message: 'invalid value' };
  const where = first.path === '' ? 'the request' : `field "${first.path}"`;
  const more =
    issues.length > 1 ? ` (and ${issues.length - 1} more problem${issues.length > 2 ? 's' : ''})` : '';
  return new ApiError('INVALID_PARAMS', `Invalid ${what}: ${where}: ${first.message}${more}`, {
    field: first.path,
    issues,
  });
}
