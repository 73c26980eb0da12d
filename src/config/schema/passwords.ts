// passwords.yml: the application secrets float generates and keeps.
import { z } from 'zod';

export const passwordEntry = z.strictObject({
  name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { message: 'password names must be valid Ansible variable names' }),
  description: z.string().optional(),
  type: z.enum(['password', 'binary']).default('password'),
  length: z.number().int().min(1).max(4096).default(32),
});

export const passwordInclude = z.strictObject({ include: z.string().min(1) });

export type PasswordEntry = z.infer<typeof passwordEntry>;
