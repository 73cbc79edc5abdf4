import { createECDH } from 'node:crypto';
import webpush from 'web-push';
import { vapidKeys } from '../../tools/local/cloudServices';

describe("the local Parameter Store's VAPID key pair", () => {
  test('is a P-256 pair that web-push signs pushes with, as a pair from generate-vapid-keys', () => {
    for (let i = 0; i < 20; i++) {
      const { publicKey, privateKey } = vapidKeys();
      // web-push refuses keys of the wrong length or encoding: the push function would fail every push.
      const headers = webpush.getVapidHeaders(
        'https://push.example.com',
        'mailto:admin@example.com',
        publicKey,
        privateKey,
        'aes128gcm',
      );
      expect(headers.Authorization).toMatch(/^vapid t=.+, k=/);
      // The public key is the private key's point, so a browser's subscription made with it matches the signatures.
      const curve = createECDH('prime256v1');
      curve.setPrivateKey(Buffer.from(privateKey, 'base64url'));
      expect(curve.getPublicKey().toString('base64url')).toBe(publicKey);
    }
  });
});
