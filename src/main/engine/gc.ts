import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * A full garbage collection, when V8 allows it. onnxruntime-node hands back a fresh copy of every
 * output, even of the pre-allocated ones it has already written: for a large model that is the size
 * of the parameters and both Adam moments per step, garbage the next step's peak should not have to
 * share memory with.
 */
let gc: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}
