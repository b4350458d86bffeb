import { z } from 'zod';
import { bounded, choice, object, typeError } from '../validation.js';

// Receipts: what a client declares before uploading, and what the API answers.

/** What S3 is told to accept (the presigned POST's policy) and what /complete/ checks. */
export const CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/heic', 'image/webp', 'application/pdf'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

/** Shown inline by browsers; anything else is downloaded (Content-Disposition: attachment). */
export const isImage = (type: string) => type.startsWith('image/');

export const MAX_PER_ENTRY = 10;
export const MAX_FILENAME = 255;
/** The largest size a presigned POST can take (5 GB); ATTACHMENT_MAX_BYTES is checked by the handler. */
const MAX_SIZE = 5 * 1024 ** 3;

// C0 and C1 control characters (and DEL): never shown in a file name.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** A file name as given, for display only: NFC, 1-255 characters, no control characters. */
const filename = () =>
  z
    .string({ error: typeError('Not a valid string.') })
    // Room for NFC to shorten a decomposed name; anything longer is refused before it is read.
    .max(MAX_FILENAME * 4, bounded(`Ensure this field has no more than ${MAX_FILENAME} characters.`))
    .transform((name) => name.normalize('NFC'))
    .refine((name) => name.length > 0, 'This field may not be blank.')
    .refine((name) => name.length <= MAX_FILENAME, `Ensure this field has no more than ${MAX_FILENAME} characters.`)
    .refine((name) => !CONTROL.test(name), 'Control characters are not allowed.');

export const createAttachmentBody = object({
  filename: filename(),
  content_type: choice(CONTENT_TYPES),
  size: z
    .number({ error: typeError('A valid integer is required.') })
    .int('A valid integer is required.')
    .min(1, 'Ensure this value is greater than or equal to 1.')
    .max(MAX_SIZE, `Ensure this value is less than or equal to ${MAX_SIZE}.`)
    .meta({ description: 'Bytes; at most ATTACHMENT_MAX_BYTES (10 MB by default)' }),
});
export type CreateAttachmentInput = z.output<typeof createAttachmentBody>;

export const attachmentOutput = z.object({
  id: z.uuid(),
  transaction: z.uuid(),
  filename: z.string(),
  content_type: z.enum(CONTENT_TYPES),
  size: z.int(),
  status: z.enum(['pending', 'complete']).meta({ description: 'pending until POST /api/attachments/{id}/complete/ has found the object' }),
  created_at: z.iso.datetime(),
  created_by: z.int().meta({ description: 'The id of the user who uploaded it' }),
});

export const listedAttachmentOutput = attachmentOutput.extend({
  url: z.url().meta({ description: 'A presigned GET of the file, valid until url_expires_at; null while pending' }).nullable(),
  url_expires_at: z.iso.datetime().nullable(),
});

export const uploadOutput = z.object({
  id: z.uuid(),
  upload: z.object({
    url: z.url().meta({ description: 'POST a multipart/form-data body to it: every field below, then the file as `file` (last)' }),
    fields: z.record(z.string(), z.string()),
    expires_at: z.iso.datetime(),
  }),
});
