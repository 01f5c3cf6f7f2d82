/**
 * What a run reports as it goes. The CLI renders these as progress bars and a timing table, or
 * prints them one JSON object per line (`--json`).
 */
import type { StageProgress } from "../stages/stage.ts";

/** The run began. */
export interface RunStartedEvent {
  readonly type: "run-started";
  readonly recipe: string;
  /** Step ids in execution order. */
  readonly steps: readonly string[];
}
/** A step began computing. */
export interface StepStartedEvent {
  readonly type: "step-started";
  readonly step: string;
  readonly stage: string;
  readonly key: string;
}
/** A running step reported progress. */
export interface StepProgressEvent {
  readonly type: "step-progress";
  readonly step: string;
  readonly progress: StageProgress;
  /** Seconds since the step started. */
  readonly elapsed: number;
}
/** A step finished computing. */
export interface StepFinishedEvent {
  readonly type: "step-finished";
  readonly step: string;
  readonly stage: string;
  readonly seconds: number;
  /** Short description of the output (size, file). */
  readonly output: string;
}
/** A step's output came from the cache. */
export interface StepCachedEvent {
  readonly type: "step-cached";
  readonly step: string;
  readonly stage: string;
  readonly output?: string;
}
/** A step failed. */
export interface StepFailedEvent {
  readonly type: "step-failed";
  readonly step: string;
  readonly stage: string;
  readonly message: string;
}
/** A non-fatal warning from a step or the runner (e.g. a corrupted cache entry was recomputed). */
export interface StepWarningEvent {
  readonly type: "step-warning";
  readonly step: string;
  readonly message: string;
}
/** Something a step says that a person should see and keep (e.g. "resumed from iteration 41"). */
export interface StepNoteEvent {
  readonly type: "step-note";
  readonly step: string;
  readonly message: string;
}
/** How one step went. */
export interface StepSummary {
  readonly step: string;
  readonly stage: string;
  readonly status: "ran" | "cached" | "failed" | "cancelled" | "skipped";
  /** Compute seconds (0 when cached or skipped). */
  readonly seconds: number;
}
/** The run ended (successfully or not). */
export interface RunFinishedEvent {
  readonly type: "run-finished";
  readonly ok: boolean;
  /** Whether it stopped because it was cancelled. */
  readonly aborted: boolean;
  readonly seconds: number;
  readonly steps: readonly StepSummary[];
  /** Files written or confirmed by file-producing steps. */
  readonly outputs: readonly string[];
}

/** Any run event. */
export type RunEvent =
  | RunStartedEvent
  | StepStartedEvent
  | StepProgressEvent
  | StepFinishedEvent
  | StepCachedEvent
  | StepFailedEvent
  | StepWarningEvent
  | StepNoteEvent
  | RunFinishedEvent;

/** Receives run events. */
export type EventSink = (event: RunEvent) => void;
