/** The shared score formatter (src/shared/eval/scoreFormat.ts): the app, the CLI and the demo agree. */
export { formatScoreIn as formatScore, metricLabel, metricOf } from '../../../shared/eval/scoreFormat.ts';
