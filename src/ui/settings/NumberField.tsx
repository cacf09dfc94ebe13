import { useEffect, useState } from 'react';

interface Props {
  label: string;
  hint?: string;
  value: number;
  min: number;
  max: number;
  step: number;
  integer?: boolean;
  testId: string;
  onChange: (value: number) => void;
}

/** A number input that lets the user type freely and saves only values in range. */
export function NumberField({ label, hint, value, min, max, step, integer, testId, onChange }: Props) {
  const [draft, setDraft] = useState(String(value));
  useEffect(() => setDraft(String(value)), [value]);
  const accepts = (text: string) => {
    const n = Number(text);
    return text.trim() !== '' && Number.isFinite(n) && n >= min && n <= max && (!integer || Number.isInteger(n));
  };
  const valid = accepts(draft);
  return (
    <label className="block text-sm">
      <span className="font-medium">{label}</span>
      {hint && <span className="ml-1 text-xs text-zinc-500">{hint}</span>}
      <input
        type="number"
        inputMode="decimal"
        data-testid={testId}
        className={`input mt-1 w-full ${valid ? '' : 'ring-2 ring-rose-400'}`}
        value={draft}
        min={min}
        max={max}
        step={step}
        onChange={(event) => {
          setDraft(event.target.value);
          if (accepts(event.target.value)) onChange(Number(event.target.value));
        }}
      />
      {!valid && <span className="text-xs text-rose-700 dark:text-rose-300">{`${min} ~ ${max}${integer ? ' 정수' : ''}`}</span>}
    </label>
  );
}
