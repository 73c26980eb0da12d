// Values the YAML reader produces besides plain JSON data, each of which the
// inventory emitter writes back so that Ansible reads the same thing again.

/**
 * An Ansible Vault value written inline (`key: !vault |` followed by the
 * `$ANSIBLE_VAULT;...` text). float never decrypts it: it is carried into the
 * inventory with its tag, and Ansible decrypts it when the variable is used.
 */
export class VaultValue {
  constructor(readonly ciphertext: string) {}
  /** What messages may show of it: never the value. */
  toString(): string {
    return '!vault (encrypted value)';
  }
  toJSON(): string {
    return this.toString();
  }
}

/**
 * A plain scalar PyYAML reads as a date or a date and time (`2001-12-14`,
 * `2001-12-14 21:59:43.10 -5`). The text is kept as written; emitted plain, it
 * reads back as the same timestamp.
 */
export class YamlTimestamp {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
  toJSON(): string {
    return this.text;
  }
}

/**
 * A string that is data, never a template: written with Ansible's `!unsafe` tag,
 * so Ansible uses it as it is instead of evaluating `{{ … }}` in it on the
 * controller. The reader makes one of every value the operator tagged `!unsafe`
 * (kept in free-form variables; attributes float reads itself take the plain
 * string); the inventory makes one of configuration strings that are data. It
 * reads back as the same string (JSON, String()).
 */
export class UnsafeString {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
  toJSON(): string {
    return this.value;
  }
}

/**
 * A float with an integral value (`1.0`, `8.0`, `1.5e+3`): PyYAML keeps it a
 * float (templated as "8.0"), which a JavaScript number cannot tell from an
 * integer. Emitted with its decimal point; attributes float reads itself take
 * the number.
 */
export class YamlFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
  toString(): string {
    return Object.is(this.value, -0) ? '-0.0' : Number.isFinite(this.value) && Number.isInteger(this.value) && Math.abs(this.value) < 1e16 ? `${this.value}.0` : String(this.value);
  }
  toJSON(): number {
    return this.value;
  }
}

/**
 * On a plain object built from a YAML mapping: the keys that were not strings
 * (`10:` is the integer 10 for Ansible, `yes:` the boolean True), as key text ->
 * typed key. A symbol, so Object.keys and JSON never see it; the emitter writes
 * these keys back with their type.
 */
export const TYPED_KEYS: unique symbol = Symbol('float.typedKeys');

export type WithTypedKeys = Record<string, unknown> & { [TYPED_KEYS]?: Map<string, unknown> };
