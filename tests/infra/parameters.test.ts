import {
  deployConstants,
  parseParameterOverrides,
  partitionOverrides,
  withDeployConstants,
} from '../../tools/infra/parameters';

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

const raw = {
  Parameters: { StageName: { Type: 'String' } },
  Mappings: {
    Names: { Shared: { A: 'a' } },
    Deploy: { Settings: { FanoutChunkSize: '100', FanoutLogLevel: 'ERROR' } },
  },
};

describe('deploy-time constants (Mappings.Deploy.Settings)', () => {
  it('reads them as text', () => {
    expect(deployConstants(raw)).toEqual({ FanoutChunkSize: '100', FanoutLogLevel: 'ERROR' });
  });

  it('changes the named ones and keeps the other mappings, without touching the template given', () => {
    const changed = withDeployConstants(raw, { FanoutChunkSize: '5' });
    expect(deployConstants(changed)).toEqual({ FanoutChunkSize: '5', FanoutLogLevel: 'ERROR' });
    expect((changed.Mappings as Record<string, unknown>).Names).toEqual(raw.Mappings.Names);
    expect(raw.Mappings.Deploy.Settings.FanoutChunkSize).toBe('100');
  });

  it('refuses a name that is no constant, naming the known ones', () => {
    expect(() => withDeployConstants(raw, { SendRateLimit: '5' })).toThrow(
      'SendRateLimit is not a deploy-time constant of Mappings.Deploy.Settings (known: FanoutChunkSize, FanoutLogLevel)',
    );
  });

  it('sorts one Key=Value list into parameters, constants and runtime settings', () => {
    expect(partitionOverrides(raw, { StageName: 'dev', FanoutChunkSize: '5', SendRateLimit: '3' })).toEqual({
      parameters: { StageName: 'dev' },
      constants: { FanoutChunkSize: '5' },
      settings: { SendRateLimit: '3' },
    });
  });
});
