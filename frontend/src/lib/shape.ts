import type { Analysis, Reactions, Stats } from '../api/types';
import { EMOTIONS } from './emotions';

/** One chart row: time, faces present, and a probability (0..1) per emotion, null where no face is. */
export type ChartRow = { t: number; faces: number } & Record<string, number | null>;

export type FaceChoice = 'mean' | number;

const key = (t: number) => Math.round(t * 1000);

function emotionCells(labels: string[], emotions: Record<string, number> | undefined): Record<string, number | null> {
  const row: Record<string, number | null> = {};
  for (const label of labels) {
    const v = emotions?.[label];
    row[label] = typeof v === 'number' && Number.isFinite(v) ? v : null;
  }
  return row;
}

/**
 * The timeline chart's rows. `mean`: the Analysis timeline (the mean over the faces present). A face id: that
 * tracked face's smoothed emotions on the same time grid (null outside its track), so the axis always spans
 * the whole video. `faces` is always the number of faces present at that moment.
 */
export function analysisToRows(analysis: Analysis, choice: FaceChoice = 'mean'): ChartRow[] {
  const labels = analysis.labels?.length ? analysis.labels : EMOTIONS;
  if (choice === 'mean') {
    return analysis.timeline.map((p) => ({ t: p.t, faces: p.faces, ...emotionCells(labels, p.emotions) }) as ChartRow);
  }
  const face = analysis.faces.find((f) => f.id === choice);
  if (!face) return [];
  const byT = new Map(face.timeline.map((p) => [key(p.t), p.emotions]));
  const rows: ChartRow[] = analysis.timeline.map(
    (p) => ({ t: p.t, faces: p.faces, ...emotionCells(labels, byT.get(key(p.t))) }) as ChartRow,
  );
  // Points of the face that fall off the global grid (should not happen, but never drop data).
  const grid = new Set(analysis.timeline.map((p) => key(p.t)));
  for (const p of face.timeline) {
    if (!grid.has(key(p.t))) rows.push({ t: p.t, faces: 0, ...emotionCells(labels, p.emotions) } as ChartRow);
  }
  return rows.sort((a, b) => a.t - b.t);
}

/** The reactions chart's series: the four reactions and attention, each 0..1 (Analysis format 2). */
export const REACTION_SERIES = ['interest', 'boredom', 'confusion', 'smile', 'attention'] as const;

export function hasReactions(analysis: Analysis): boolean {
  return analysis.timeline.some((p) => p.reactions !== undefined);
}

type ReactionPoint = { reactions?: Reactions; attention?: number | boolean };

function reactionCells(p: ReactionPoint | undefined): Record<string, number | null> {
  const row: Record<string, number | null> = {};
  for (const name of REACTION_SERIES) {
    const v = name === 'attention' ? p?.attention : p?.reactions?.[name as keyof Reactions];
    row[name] = typeof v === 'boolean' ? Number(v) : typeof v === 'number' && Number.isFinite(v) ? v : null;
  }
  return row;
}

/** Rows for the reactions view, on the same grid and with the same face choice as `analysisToRows`. */
export function analysisToReactionRows(analysis: Analysis, choice: FaceChoice = 'mean'): ChartRow[] {
  if (choice === 'mean') {
    return analysis.timeline.map((p) => ({ t: p.t, faces: p.faces, ...reactionCells(p) }) as ChartRow);
  }
  const face = analysis.faces.find((f) => f.id === choice);
  if (!face) return [];
  const byT = new Map(face.timeline.map((p) => [key(p.t), p]));
  return analysis.timeline.map((p) => ({ t: p.t, faces: p.faces, ...reactionCells(byT.get(key(p.t))) }) as ChartRow);
}

export interface DistributionDatum {
  label: string;
  value: number;
}

/** A Distribution object as bars in the fixed emotion order (unknown labels after them). */
export function distributionData(distribution: Record<string, number | undefined> | undefined): DistributionDatum[] {
  const d = distribution ?? {};
  const extra = Object.keys(d).filter((k) => !(EMOTIONS as string[]).includes(k));
  return [...EMOTIONS, ...extra].map((label) => ({ label, value: d[label] ?? 0 }));
}

export interface StatsChartData {
  distribution: DistributionDatum[];
  dominantCounts: { label: string; count: number }[];
  perVideo: { id: string; title: string; created_at: string | null; duration: number | null; dominant: string | null; valence: number | null }[];
  weekly: { week: string; videos: number; duration: number; valence: number; expressiveness: number }[];
}

export function statsToChartData(stats: Stats): StatsChartData {
  const counts = new Map<string, number>();
  for (const v of stats.dominant_per_video) {
    const label = v.dominant ?? 'none';
    counts.set(label, (counts.get(label) ?? 0) + 1);
  }
  const order = [...EMOTIONS, 'none'];
  const dominantCounts = [...counts.entries()]
    .map(([label, count]) => ({ label, count }))
    .sort((a, b) => b.count - a.count || order.indexOf(a.label) - order.indexOf(b.label));
  return {
    distribution: distributionData(stats.distribution as Record<string, number>),
    dominantCounts,
    perVideo: stats.dominant_per_video,
    weekly: [...stats.weekly].sort((a, b) => a.week.localeCompare(b.week)),
  };
}
