import { parseParameterOverrides } from '../../infra/parameters';

describe('--parameter Key=Value overrides', () => {
  it('keeps everything after the first = as the value, and the last of a repeated key', () => {
    expect(
      parseParameterOverrides([
        'FanoutChunkSize=50',
        'BroadcastAllowedOrigin=https://a.example/?x=1',
        'A=1',
        'A=2',
      ]),
    ).toEqual({ FanoutChunkSize: '50', BroadcastAllowedOrigin: 'https://a.example/?x=1', A: '2' });
  });

  it('allows an empty value, as sam deploy does', () => {
    expect(parseParameterOverrides(['AuthSecretParameterName='])).toEqual({ AuthSecretParameterName: '' });
  });

  it.each(['FanoutChunkSize', '=50', ''])('refuses %j, saying what shape it needs', (pair) => {
    expect(() => parseParameterOverrides([pair])).toThrow(
      `--parameter must look like Key=Value, got "${pair}"`,
    );
  });
});
