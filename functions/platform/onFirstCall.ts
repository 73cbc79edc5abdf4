/**
 * A function's dependencies, built on its first invocation (the cold start) and kept for the next ones. Built
 * then rather than at import, so importing a bundle needs no configuration, and a missing variable fails the
 * first invocation with its name.
 */
export function onFirstCall<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
