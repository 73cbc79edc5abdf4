import {
  checkSettings,
  foldSettings,
  parseParameterOverrides,
  settingValue,
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

describe('Settings: the settings tuned after the first deploy', () => {
  const defaults = { SendRateLimit: '10', FanoutChunkSize: '100', OidcJwksUri: '' };

  it('reads a setting as template.yaml does: the value in Settings wins, else the default', () => {
    expect(settingValue('', 'SendRateLimit', '10')).toBe('10');
    expect(settingValue('FanoutChunkSize=5,SendRateLimit=3', 'SendRateLimit', '10')).toBe('3');
    expect(settingValue('FanoutChunkSize=5', 'SendRateLimit', '10')).toBe('10');
    expect(settingValue('OidcJwksUri=https://id.example/k?a=b', 'OidcJwksUri', '')).toBe(
      'https://id.example/k?a=b',
    );
    expect(settingValue('', 'OidcJwksUri', '')).toBe('');
  });

  it('folds --parameter Name=Value of a setting into Settings, the one named on its own winning', () => {
    expect(foldSettings({ SendRateLimit: '3', StageName: 'dev' }, defaults)).toEqual({
      StageName: 'dev',
      Settings: 'SendRateLimit=3',
    });
    expect(
      foldSettings({ Settings: 'SendRateLimit=5,FanoutChunkSize=7', SendRateLimit: '3' }, defaults),
    ).toEqual({
      Settings: 'SendRateLimit=3,FanoutChunkSize=7',
    });
    expect(foldSettings({ StageName: 'dev' }, defaults)).toEqual({ StageName: 'dev' });
  });

  it('names the one item of Settings that is not allowed', () => {
    const pattern =
      '(?:(?:^|,)(?:SendRateLimit=[1-9][0-9]*|FanoutChunkSize=[1-9][0-9]*|OidcJwksUri=(?:https://[^,]+)?))*';
    expect(() => checkSettings('SendRateLimit=3,FanoutChunkSize=5', pattern, defaults)).not.toThrow();
    expect(() => checkSettings('SendRateLimit=3,FanoutChunkSize=0', pattern, defaults)).toThrow(
      'Settings: "FanoutChunkSize=0" is outside the values FanoutChunkSize may take',
    );
    expect(() => checkSettings('SendRate=3', pattern, defaults)).toThrow('"SendRate=3" names no setting');
    expect(() => checkSettings('OidcJwksUri=http://x', pattern, defaults)).toThrow('is outside');
  });
});
