import { useState } from 'react';
import type { ScoredSpan, TokenScore } from '../../chat/score';

/** Probability as a colour: red (unlikely) through yellow to green (likely), translucent so text stays readable. */
function colour(p: number): string {
  return `hsl(${Math.round(120 * p)} 80% 50% / 0.35)`;
}

const percent = (logprob: number) => `${(100 * Math.exp(logprob)).toFixed(logprob > Math.log(0.1) ? 0 : 1)}%`;

function describe(token: TokenScore): string {
  const alternatives = token.top.map((alt) => `${alt.piece} ${percent(alt.logprob)}`).join(', ');
  return `${token.piece}: ${percent(token.logprob)} (ln p ${token.logprob.toFixed(2)}); top 5: ${alternatives}`;
}

/**
 * A scored text, each span of tokens coloured by its probability. Hovering, focusing (Tab) or
 * tapping a span shows its tokens' log-probabilities and the 5 likeliest alternatives below.
 */
export function TokenSpans({ spans }: { spans: ScoredSpan[] }) {
  const [active, setActive] = useState<number | null>(null);
  const shown = active === null ? undefined : spans[active];
  return (
    <div>
      <p className="whitespace-pre-wrap break-words leading-7" data-testid="token-spans">
        {spans.map((span, i) => {
          const logprob = span.tokens.reduce((sum, token) => sum + token.logprob, 0);
          return (
            <span
              key={i}
              tabIndex={0}
              role="button"
              data-testid="token"
              data-logprob={logprob}
              title={span.tokens.map(describe).join('\n')}
              aria-label={`${span.text}: ${percent(logprob)}`}
              className={`rounded-sm outline-none focus-visible:ring-2 focus-visible:ring-sky-500 ${active === i ? 'ring-2 ring-sky-500' : ''}`}
              style={{ backgroundColor: colour(Math.exp(logprob)) }}
              onMouseEnter={() => setActive(i)}
              onFocus={() => setActive(i)}
              onClick={() => setActive(i)}
            >
              {span.text}
            </span>
          );
        })}
      </p>
      <div className="mt-2 min-h-12 rounded-lg bg-zinc-100 p-2 text-xs dark:bg-zinc-800" data-testid="token-detail" aria-live="polite">
        {shown ? (
          shown.tokens.map((token, i) => (
            <div key={i} className="space-y-0.5">
              <div>
                <code className="font-mono">{token.piece}</code> · p {percent(token.logprob)} · ln p <span data-testid="token-logprob">{token.logprob.toFixed(3)}</span>
              </div>
              <ol className="flex flex-wrap gap-x-3 text-zinc-600 dark:text-zinc-300" data-testid="token-alternatives">
                {token.top.map((alt) => (
                  <li key={alt.id} className={alt.id === token.id ? 'font-semibold' : undefined}>
                    <code className="font-mono">{alt.piece}</code> {percent(alt.logprob)}
                  </li>
                ))}
              </ol>
            </div>
          ))
        ) : (
          <span className="text-zinc-500">토큰에 마우스를 올리거나 눌러 확률과 상위 5개 후보를 보세요. (Hover, focus or tap a token: its probability and the top 5 alternatives.)</span>
        )}
      </div>
    </div>
  );
}
