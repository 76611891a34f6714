/**
 * Calls `fn` once `ms` have passed without another call: a burst of file events (an editor
 * writing, renaming and touching) becomes one.
 */
export function debounce(fn: () => void, ms: number): { call(): void; cancel(): void } {
  let timer: NodeJS.Timeout | undefined;
  return {
    call() {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    },
    cancel() {
      clearTimeout(timer);
    },
  };
}
