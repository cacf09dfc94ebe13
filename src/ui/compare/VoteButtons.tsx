import type { Verdict } from '../../eval/votes';

const CHOICES: { verdict: Verdict; testId: string; label: string }[] = [
  { verdict: 'a', testId: 'vote-a', label: 'A가 낫다 (A is better)' },
  { verdict: 'b', testId: 'vote-b', label: 'B가 낫다 (B is better)' },
  { verdict: 'tie', testId: 'vote-tie', label: '비슷하다 (Tie)' },
  { verdict: 'both-bad', testId: 'vote-bad', label: '둘 다 별로 (Both bad)' },
];

export const VERDICT_LABEL: Record<Verdict, string> = Object.fromEntries(CHOICES.map((c) => [c.verdict, c.label])) as Record<Verdict, string>;

/** The four blind verdicts; the names show only once one is chosen. */
export function VoteButtons({ onVote }: { onVote: (verdict: Verdict) => void }) {
  return (
    <div className="flex flex-wrap justify-center gap-2" role="group" aria-label="어느 답이 더 나은가요? (Which answer is better?)">
      {CHOICES.map((choice) => (
        <button key={choice.verdict} type="button" className="btn-secondary" data-testid={choice.testId} onClick={() => onVote(choice.verdict)}>
          {choice.label}
        </button>
      ))}
    </div>
  );
}
