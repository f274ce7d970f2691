// @vitest-environment happy-dom
import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import type { Comparison } from '../src/api/types';
import { App } from '../src/App';
import { fakeApi, json, renderInApp, type Call } from './support/app';
import { audience, pointer, study, withSizedLayout, xAt } from './support/studies';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

/** Study A is happier than B from 1 s on (by 0.4 at 1.5 s); B has nobody after 2 s. */
function comparison(): Comparison {
  const a = audience({ study_id: A });
  const b = audience({ study_id: B, n: [2, 2, 2, 2, 2, 0, 0] });
  b.mean = { ...b.mean, happy: [0.2, 0.3, 0.3, 0.2, 0.7, null, null] };
  b.low = { ...b.low, happy: [0.1, 0.2, 0.2, 0.1, 0.6, null, null] };
  b.high = { ...b.high, happy: [0.3, 0.4, 0.4, 0.3, 0.8, null, null] };
  const difference: Record<string, (number | null)[]> = {};
  for (const s of a.series) difference[s] = a.t.map((_, i) => (a.mean[s][i] == null || b.mean[s][i] == null ? null : Math.round(((a.mean[s][i] as number) - (b.mean[s][i] as number)) * 1e4) / 1e4));
  return { t: a.t, a, b, difference };
}

function compareApi() {
  return (c: Call) => {
    if (c.path === '/studies') return json(200, { items: [study({ id: A, title: 'Trailer A' }), study({ id: B, title: 'Trailer B' })], next: null });
    if (c.path.startsWith('/compare?')) return json(200, comparison());
    return json(404, { error: { code: 'not_found', message: c.path } });
  };
}


withSizedLayout();

describe('comparing two studies', () => {
  it('picks two studies and a series: both curves with their bands on one timeline, and the difference', async () => {
    const { client, calls } = await fakeApi(compareApi());
    const user = userEvent.setup();
    renderInApp(<App />, client, 'en', `/studies/compare?a=${A}`);
    await screen.findByRole('heading', { name: 'Compare two studies', level: 1 });
    await user.selectOptions(await screen.findByLabelText('Study B'), 'Trailer B');
    await user.selectOptions(screen.getByRole('combobox', { name: 'Series' }), 'Happy');
    expect(calls.find((c) => c.path.startsWith('/compare?'))!.path).toBe(`/compare?a=${A}&b=${B}`);

    const chart = await screen.findByTestId('audience-chart');
    expect([...chart.querySelectorAll('.audience-band-area .recharts-area-area')].map((p) => p.getAttribute('name'))).toEqual(['Trailer A 95%', 'Trailer B 95%']);
    // No content plays here: the caption says a click places the cursor, not that it seeks a video.
    expect(chart.closest('figure')!.querySelector('figcaption')!.textContent).toContain('click to place the cursor');
    expect(screen.getByTestId('audience-strip').getAttribute('data-kind')).toBe('signed');
    expect(within(screen.getByTestId('audience-strip')).getByText('Difference (A − B)')).toBeTruthy();
    expect(screen.getByTestId('audience-strip').querySelectorAll('.recharts-line-curve')).toHaveLength(1);
    // Each study's n in a strip of its own, as on the study page (not only in the hover readout).
    const nStrip = screen.getByTestId('audience-n-strip');
    expect(nStrip.getAttribute('data-kind')).toBe('count');
    expect(within(nStrip).getByText('Viewers with a face (n)')).toBeTruthy();
    expect([...nStrip.querySelectorAll('.audience-n-area .recharts-area-area')].map((p) => p.getAttribute('name'))).toEqual(['Trailer A', 'Trailer B']);
    expect([...nStrip.querySelectorAll('.recharts-cartesian-axis-tick-value')].map((e) => e.textContent)).toEqual(['0', '2']);

    // The largest differences: +40% at 1.5 s first; the ones within 5 s of it are not repeated.
    const diffs = screen.getByTestId('compare-diffs');
    expect(within(diffs).getAllByRole('listitem').map((li) => li.textContent)).toEqual(['0:01.5A 60% · B 20%+40%']);

    await act(async () => pointer(chart.querySelector('.recharts-wrapper')!, 'mousemove', xAt(1.5)));
    const tip = await screen.findByTestId('audience-tooltip');
    expect(tip.querySelector('li[data-series="a"]')!.textContent).toBe('Trailer A60.0%95%: 40%–80% · n = 2');
    expect(tip.querySelector('li[data-series="b"]')!.textContent).toBe('Trailer B20.0%95%: 10%–30% · n = 2');
    expect(screen.getByTestId('tooltip-diff').textContent).toBe('Difference (A − B)+40%');

    // Where B has nobody there is no difference to show.
    await act(async () => pointer(chart.querySelector('.recharts-wrapper')!, 'mousemove', xAt(2.5)));
    await waitFor(() => expect(screen.getByTestId('tooltip-diff').textContent).toBe('Difference (A − B)—'));
    client.clearTokens();
  });

  it('asks for two different studies before comparing', async () => {
    const { client, calls } = await fakeApi(compareApi());
    renderInApp(<App />, client, 'en', `/studies/compare?a=${A}&b=${A}`);
    expect(await screen.findByText('Choose two different studies.')).toBeTruthy();
    expect(calls.some((c) => c.path.startsWith('/compare'))).toBe(false);
    client.clearTokens();
  });
});
