import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { VideoSummary } from '../src/api/types';
import { AttentionCard } from '../src/components/AttentionCard';
import { I18nProvider } from '../src/i18n';

const base: VideoSummary = { dominant: 'neutral', distribution: { neutral: 1 }, face_presence: 1, valence: 0, expressiveness: 0 };

/** The card as the results page renders it, in the browser language `lang`. */
function render(summary: VideoSummary, lang: string, sampleFps = 5): string {
  vi.stubGlobal('navigator', { language: lang, languages: [lang] });
  return renderToStaticMarkup(createElement(I18nProvider, null, createElement(AttentionCard, { summary, sampleFps })));
}

/** The text of the page, tags dropped (the label and its value sit in separate elements). */
const text = (html: string) => html.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ');

describe('attention card', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('shows attention, the share looking away and blinks per minute with the sample rate', () => {
    const html = render({ ...base, attention: 0.93, looking_away: 0.07, blinks_per_minute: 5.125 }, 'en-US');
    const shown = text(html);
    expect(shown).toContain('Attention 93%');
    expect(shown).toContain('Looking away 7%');
    expect(shown).toContain('Blinks 5.1 per minute');
    expect(shown).toContain('lower bound');
    expect(shown).toContain('5 times a second');
  });

  it('speaks Spanish, with its decimal comma', () => {
    const shown = text(render({ ...base, attention: 0.5, looking_away: 0.5, blinks_per_minute: 12.25 }, 'es-ES', 10));
    expect(shown).toContain('Mirando a otro lado 50');
    expect(shown).toMatch(/Parpadeos 12,\d por minuto/);
    expect(shown).toContain('10 veces por segundo');
  });

  it('shows a rate of 0 as a number, and leaves out what the analysis does not have', () => {
    expect(text(render({ ...base, attention: 1, looking_away: 0, blinks_per_minute: 0 }, 'en'))).toContain('Blinks 0.0 per minute');
    const attentionOnly = text(render({ ...base, attention: 0.8 }, 'en'));
    expect(attentionOnly).toContain('Attention 80%');
    expect(attentionOnly).not.toContain('Looking away');
    expect(attentionOnly).not.toContain('Blinks');
    expect(render(base, 'en')).toBe(''); // format 1, or no landmark signals: no card at all
  });
});
