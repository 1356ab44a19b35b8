// The engine's public surface.
export { runEnded, train } from './trainer.js';
export { stoppedEarly } from './early-stopping.js';
export { resolveSpec, resolveTraining, validateSpec, validateTraining, validateData, outputDimFor, parameterCount, randomSeed } from './spec.js';
export { initBackend, type BackendInfo, type BackendPreference } from './backend.js';
export { configureTrainEngine, type TrainEngineChoice, type TrainEngineName, type TrainEngineSettings } from './train-step.js';
export { SpecError, TrainingCancelledError, TrainingDivergedError } from './errors.js';
export type { Matrix, TrainArgs, TrainResult, TrainingProgress, TrainingStart, SavedCheckpoint } from './types.js';
