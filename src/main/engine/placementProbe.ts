/**
 * Child process of placement.ts: creates one session with ONNX Runtime's verbose log on stderr (where
 * its placement report is written) and exits. Arguments: model file, device, JSON list of gpu outputs.
 */
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { sessionOptions, type DeviceName } from './device.ts';

const [file, device, gpuOutputs] = process.argv.slice(2) as [string, DeviceName, string];
const opts = sessionOptions(device, 1, JSON.parse(gpuOutputs) as string[]);
opts.logSeverityLevel = 0;
opts.logVerbosityLevel = 0;
const session = await ort.InferenceSession.create(readFileSync(file), opts);
await session.release();
