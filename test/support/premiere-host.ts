// Runs the built ES3 host script the way Premiere's ExtendScript engine would, as far as Node
// allows: a `vm` context whose built-ins are stripped back to ES3 (no JSON, no ES5 array, object,
// string, function or date methods, nothing newer), with the FAKE Premiere DOM of
// premiere-fake.ts as its `app`, and CEP's evalScript contract (the result as a string,
// "EvalScript error." when the script throws).
import vm from 'node:vm';
import type { HostApi } from '../../host/src/api.js';
import { hostCallScript, readHostReply } from '../../panels/premiere/src/host-script.js';
import { buildHostScript } from '../../scripts/premiere-build.js';
import { FakeTime, PROJECT_ITEM_TYPE, type FakeApp } from './premiere-fake.js';

/** Everything ES5 and later added to the built-ins, removed inside the context. */
const STRIP_TO_ES3 = `
(function (g) {
  var drop = function (obj, names) { for (var i = 0; i < names.length; i++) { try { delete obj[names[i]]; } catch (e) {} } };
  drop(g, ['JSON', 'Promise', 'Symbol', 'Map', 'Set', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry', 'Proxy', 'Reflect',
    'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
    'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array', 'BigInt', 'Atomics',
    'Intl', 'WebAssembly', 'AggregateError', 'Iterator', 'globalThis']);
  drop(Array, ['isArray', 'from', 'of', 'fromAsync']);
  drop(Array.prototype, ['indexOf', 'lastIndexOf', 'every', 'some', 'forEach', 'map', 'filter', 'reduce', 'reduceRight', 'find',
    'findIndex', 'findLast', 'findLastIndex', 'fill', 'copyWithin', 'includes', 'flat', 'flatMap', 'entries', 'keys', 'values',
    'at', 'toSorted', 'toReversed', 'toSpliced', 'with']);
  drop(Object, ['keys', 'create', 'defineProperty', 'defineProperties', 'getOwnPropertyNames', 'getOwnPropertyDescriptor',
    'getOwnPropertyDescriptors', 'getPrototypeOf', 'setPrototypeOf', 'freeze', 'isFrozen', 'seal', 'isSealed', 'preventExtensions',
    'isExtensible', 'assign', 'entries', 'values', 'fromEntries', 'is', 'getOwnPropertySymbols', 'hasOwn', 'groupBy']);
  drop(String, ['fromCodePoint', 'raw']);
  drop(String.prototype, ['trim', 'trimStart', 'trimEnd', 'trimLeft', 'trimRight', 'startsWith', 'endsWith', 'includes', 'repeat',
    'padStart', 'padEnd', 'codePointAt', 'normalize', 'at', 'replaceAll', 'matchAll', 'isWellFormed', 'toWellFormed']);
  drop(Function.prototype, ['bind']);
  drop(Date, ['now']);
  drop(Date.prototype, ['toISOString', 'toJSON']);
  drop(Number, ['isInteger', 'isFinite', 'isNaN', 'isSafeInteger', 'parseFloat', 'parseInt', 'EPSILON', 'MAX_SAFE_INTEGER', 'MIN_SAFE_INTEGER']);
  drop(Math, ['trunc', 'sign', 'cbrt', 'log10', 'log2', 'log1p', 'expm1', 'hypot', 'clz32', 'imul', 'fround', 'sinh', 'cosh', 'tanh',
    'asinh', 'acosh', 'atanh']);
})(this);
`;

export interface DispatchedEvent {
  readonly type: string;
  readonly data: string;
}

let cachedScript: Promise<string> | undefined;

/** The host script, built once per test process from host/src. */
export function hostScript(): Promise<string> {
  cachedScript ??= buildHostScript();
  return cachedScript;
}

/** A fresh ES3 context with nothing of the host in it (for checking the stripping itself). */
export function es3Context(globals: Record<string, unknown> = {}): vm.Context {
  const context = vm.createContext({});
  vm.runInContext(STRIP_TO_ES3, context);
  for (const [name, value] of Object.entries(globals)) context[name] = value;
  return context;
}

export class Es3Host {
  /** CSXS events the host dispatched, oldest first. */
  readonly events: DispatchedEvent[] = [];
  onEvent: ((event: DispatchedEvent) => void) | undefined;

  private constructor(private readonly context: vm.Context) {}

  /** Loads the host script into an ES3 context wired to the fake app (as Premiere runs the manifest's ScriptPath). */
  static async load(app: FakeApp, script?: string): Promise<Es3Host> {
    // Defined in the outer realm: the FAKE PlugPlug library's event class.
    class CSXSEvent {
      type = '';
      data = '';
      dispatch(): void {
        const event = { type: String(this.type), data: String(this.data) };
        host.events.push(event);
        host.onEvent?.(event);
      }
    }
    const context = es3Context({
      app,
      Time: FakeTime,
      ProjectItemType: PROJECT_ITEM_TYPE,
      ExternalObject: function ExternalObject(lib: string) {
        if (lib !== 'lib:PlugPlugExternalObject') throw new Error(`no external library ${lib}`);
      },
      CSXSEvent,
    });
    context.$ = { global: vm.runInContext('this', context), writeln: () => undefined };
    const host = new Es3Host(context); // CSXSEvent above reads it only once the script runs
    vm.runInContext(script ?? (await hostScript()), context, { filename: 'host.jsx' });
    return host;
  }

  /** CEP's evalScript: the completion value as a string, or "EvalScript error." if it threw. */
  evalScript(script: string): string {
    try {
      return String(vm.runInContext(script, this.context, { filename: 'evalScript' }));
    } catch {
      return 'EvalScript error.';
    }
  }

  /** A host call through the same script text and reply reading as the panel's bridge. */
  call<K extends keyof HostApi>(name: K, ...args: Parameters<HostApi[K]>): ReturnType<HostApi[K]> {
    return readHostReply<ReturnType<HostApi[K]>>(this.evalScript(hostCallScript(name, args)));
  }

  /** The raw reply text of a call (to check errors as the panel sees them). */
  raw(name: string, args: unknown[]): string {
    return this.evalScript(hostCallScript(name, args));
  }
}
