import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ApiError } from '../../shared/api/errors.ts';
import { appRoot } from '../util/appRoot.ts';

/**
 * The example pipeline that ships with XAI-Link (docs/examples/pipeline.json). The app offers it as a
 * starting point by path rather than by content: its input (the bundled tiny-shakespeare) is a path
 * relative to the file's own folder, which only resolves when the runner knows where the file is.
 */
export function examplePipelineFile(root: string | null = appRoot()): string {
  const file = join(root ?? process.cwd(), 'docs', 'examples', 'pipeline.json');
  if (!existsSync(file))
    throw new ApiError('NOT_FOUND', `the example pipeline is missing: no file at ${file}`, {
      hint: 'Choose a pipeline file of your own, or reinstall XAI-Link to get docs/examples/pipeline.json back.',
    });
  return file;
}
