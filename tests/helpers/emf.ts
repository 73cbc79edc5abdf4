/**
 * What a test file's code writes to stdout, where Powertools writes its EMF metric documents: captured afresh for each
 * test (nothing reaches the terminal), with the console methods named in `silence` quietened too. `written` is the
 * raw chunks; `documents()` the EMF documents among the lines, parsed.
 */
export function capturedStdout(silence: ('error' | 'warn')[] = []) {
  const written: string[] = [];
  beforeEach(() => {
    written.length = 0;
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    for (const method of silence) jest.spyOn(console, method).mockImplementation(() => undefined);
  });
  afterEach(() => jest.restoreAllMocks());
  return {
    written,
    documents: () =>
      written
        .flatMap((chunk) => chunk.split('\n'))
        .filter((line) => line.includes('"_aws"'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
