/**
 * Pieces every route declaration uses: JSON bodies and responses, and the error responses
 * documented on every route (the body shape is the same for all of them).
 */
import type { z } from '@hono/zod-openapi';
import { ErrorSchema } from '../schemas.js';

/** A required JSON request body. */
export function jsonBody<T extends z.ZodType>(schema: T) {
  return { content: { 'application/json': { schema } }, required: true } as const;
}

/** A JSON response. */
export function ok<T extends z.ZodType>(schema: T, description: string) {
  return { content: { 'application/json': { schema } }, description } as const;
}

const error = (description: string) => ({ content: { 'application/json': { schema: ErrorSchema } }, description }) as const;

/** The error responses of every authenticated route. */
export const errorResponses = {
  400: error('INVALID_INPUT / INVALID_DEFINITION: `details.issues` names each field'),
  401: error('UNAUTHENTICATED'),
  403: error('PERMISSION_DENIED'),
  404: error('*_NOT_FOUND (also for what the caller may not see)'),
  409: error('CONFLICT'),
  413: error('PAYLOAD_TOO_LARGE'),
  500: error('INTERNAL'),
} as const;
