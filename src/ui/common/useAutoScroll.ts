import { useEffect, useRef } from 'react';

/** Keeps a scrolled box at its bottom as content grows, unless the user scrolled up to read. */
export function useAutoScroll<T extends HTMLElement>(dependency: unknown) {
  const ref = useRef<T>(null);
  const pinned = useRef(true);
  useEffect(() => {
    const box = ref.current;
    if (!box) return;
    const onScroll = () => (pinned.current = box.scrollHeight - box.scrollTop - box.clientHeight < 48);
    box.addEventListener('scroll', onScroll);
    return () => box.removeEventListener('scroll', onScroll);
  }, []);
  useEffect(() => {
    const box = ref.current;
    if (box && pinned.current) box.scrollTop = box.scrollHeight;
  }, [dependency]);
  return ref;
}
