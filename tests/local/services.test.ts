import { createServer } from 'node:http';
import { Services, serve } from '../../local/services';

/** A service that records its start and close in `events`, and fails to start when told to. */
function service(name: string, events: string[], fails = false) {
  return async () => {
    if (fails) throw new Error(`${name} could not start`);
    events.push(`start ${name}`);
    return { value: name, close: async () => void events.push(`close ${name}`) };
  };
}

it('starts the services in order and closes them in reverse', async () => {
  const events: string[] = [];
  const services = new Services();
  expect(await services.start('a', service('a', events))).toBe('a');
  await services.start('b', service('b', events));
  await services.start('c', service('c', events));
  expect(services.names()).toEqual(['a', 'b', 'c']);
  await services.close();
  expect(events).toEqual(['start a', 'start b', 'start c', 'close c', 'close b', 'close a']);
  // Closed once: a second close has nothing left to close.
  await services.close();
  expect(events).toHaveLength(6);
});

it('closes what had started, in reverse, when a start fails, and passes the error on', async () => {
  const events: string[] = [];
  const services = new Services();
  await services.start('a', service('a', events));
  await services.start('b', service('b', events));
  await expect(services.start('c', service('c', events, true))).rejects.toThrow('c could not start');
  expect(events).toEqual(['start a', 'start b', 'close b', 'close a']);
});

it('closes the other services when one fails to close', async () => {
  const events: string[] = [];
  const services = new Services();
  await services.start('a', service('a', events));
  await services.start('broken', async () => ({
    value: undefined,
    close: async () => {
      throw new Error('cannot close');
    },
  }));
  await services.close();
  expect(events).toEqual(['start a', 'close a']);
});

it('frees a served port on close, open connections included', async () => {
  const server = createServer((_req, res) => res.end('ok'));
  const served = await serve(server, 0, '127.0.0.1');
  expect(await (await fetch(served.value)).text()).toBe('ok');
  await served.close();
  expect(server.listening).toBe(false);
});
