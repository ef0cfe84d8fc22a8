// JSON for ExtendScript, which has none: the host's results and the panel's arguments cross the
// CEP bridge as JSON text. A strict parser (no eval) and a stringifier with JSON's rules
// (undefined and functions left out of objects, null in arrays; non-finite numbers as null).

const hasOwn = Object.prototype.hasOwnProperty;
const toStr = Object.prototype.toString;

function isArray(value: unknown): value is unknown[] {
  return toStr.call(value) === '[object Array]';
}

function hex4(code: number): string {
  const h = code.toString(16);
  return '\\u' + '0000'.substring(h.length) + h;
}

function quote(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const c = text.charAt(i);
    const code = text.charCodeAt(i);
    if (c === '"') out += '\\"';
    else if (c === '\\') out += '\\\\';
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    // Control characters, and U+2028/2029, which end a line inside a JS string literal.
    else if (code < 0x20 || code === 0x2028 || code === 0x2029) out += hex4(code);
    else out += c;
  }
  return out + '"';
}

function write(value: unknown, inArray: boolean): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return quote(value as string);
    case 'number':
      return isFinite(value as number) ? String(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
      return inArray ? 'null' : undefined;
  }
  if (value instanceof String || value instanceof Number || value instanceof Boolean) return write(value.valueOf(), inArray);
  if (isArray(value)) {
    const parts: string[] = [];
    for (let i = 0; i < value.length; i++) parts.push(write(value[i], true) as string);
    return '[' + parts.join(',') + ']';
  }
  const parts: string[] = [];
  const obj = value as Record<string, unknown>;
  for (const key in obj) {
    if (!hasOwn.call(obj, key)) continue;
    const text = write(obj[key], false);
    if (text !== undefined) parts.push(quote(key) + ':' + text);
  }
  return '{' + parts.join(',') + '}';
}

/** JSON text of `value` (undefined for a bare undefined or function, as JSON.stringify). */
export function stringify(value: unknown): string | undefined {
  return write(value, false);
}

class Parser {
  private i = 0;
  constructor(private readonly text: string) {}

  fail(what: string): never {
    throw new SyntaxError('JSON: ' + what + ' at position ' + this.i);
  }

  private space(): void {
    let c = this.text.charAt(this.i);
    while (c === ' ' || c === '\t' || c === '\n' || c === '\r') c = this.text.charAt(++this.i);
  }

  private expect(word: string): void {
    if (this.text.substr(this.i, word.length) !== word) this.fail('expected ' + word);
    this.i += word.length;
  }

  document(): unknown {
    const value = this.value();
    this.space();
    if (this.i < this.text.length) this.fail('unexpected text after the value');
    return value;
  }

  private value(): unknown {
    this.space();
    const c = this.text.charAt(this.i);
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return this.string();
    if (c === 't') return (this.expect('true'), true);
    if (c === 'f') return (this.expect('false'), false);
    if (c === 'n') return (this.expect('null'), null);
    if (c === '-' || (c >= '0' && c <= '9')) return this.number();
    return this.fail(c === '' ? 'unexpected end' : 'unexpected character ' + c);
  }

  private object(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.i++;
    this.space();
    if (this.text.charAt(this.i) === '}') {
      this.i++;
      return out;
    }
    for (;;) {
      this.space();
      if (this.text.charAt(this.i) !== '"') this.fail('expected a property name');
      const key = this.string();
      this.space();
      this.expect(':');
      out[key] = this.value();
      this.space();
      const c = this.text.charAt(this.i++);
      if (c === '}') return out;
      if (c !== ',') this.fail('expected , or }');
    }
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.i++;
    this.space();
    if (this.text.charAt(this.i) === ']') {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.space();
      const c = this.text.charAt(this.i++);
      if (c === ']') return out;
      if (c !== ',') this.fail('expected , or ]');
    }
  }

  private string(): string {
    let out = '';
    this.i++;
    for (;;) {
      if (this.i >= this.text.length) this.fail('unterminated string');
      const c = this.text.charAt(this.i++);
      if (c === '"') return out;
      if (c.charCodeAt(0) < 0x20) this.fail('control character in string');
      if (c !== '\\') {
        out += c;
        continue;
      }
      const e = this.text.charAt(this.i++);
      if (e === '"' || e === '\\' || e === '/') out += e;
      else if (e === 'n') out += '\n';
      else if (e === 'r') out += '\r';
      else if (e === 't') out += '\t';
      else if (e === 'b') out += '\b';
      else if (e === 'f') out += '\f';
      else if (e === 'u') {
        const h = this.text.substr(this.i, 4);
        if (!/^[0-9a-fA-F]{4}$/.test(h)) this.fail('bad \\u escape');
        out += String.fromCharCode(parseInt(h, 16));
        this.i += 4;
      } else this.fail('bad escape \\' + e);
    }
  }

  private number(): number {
    const m = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(this.text.substring(this.i));
    if (!m) return this.fail('bad number');
    this.i += m[0]!.length;
    return parseFloat(m[0]!);
  }
}

/** Parses strict JSON text (SyntaxError on anything else). */
export function parse(text: string): unknown {
  return new Parser(String(text)).document();
}
