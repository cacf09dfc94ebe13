import { announcements } from '../common/announcer';
import { useStore } from '../common/useStore';

/** Off screen, read aloud: see common/announcer.ts. */
export function LiveAnnouncer() {
  const list = useStore(announcements);
  return (
    <div aria-live="polite" aria-relevant="additions" className="sr-only" data-testid="live-announcer">
      {list.map((announcement) => (
        <p key={announcement.id}>{announcement.text}</p>
      ))}
    </div>
  );
}
