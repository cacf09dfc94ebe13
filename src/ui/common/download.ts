/** Saves `text` as a file the browser downloads (votes and results exports). */
export function downloadText(filename: string, text: string, type = 'application/jsonl'): void {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  link.rel = 'noopener';
  document.body.append(link);
  link.click();
  link.remove();
  // Revoked after the click has started the download (revoking at once can cancel it in Safari).
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
