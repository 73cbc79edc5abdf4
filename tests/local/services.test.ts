import { createServer } from 'node:http';
import { Services, serve } from '../../tools/local/services';

/** A service that records its start and close in `events`, and fails to start when told to. */
function service(name: string, events: string[], fails = false) {
  return async () => {
    if (fails) throw new Error(`${name} could not start`);
    events.push(`start ${name}`);
    return { value: name, close: async () => void events.push(`close ${name}`) };
  };
}

/** A promise the test resolves when it chooses. */
function gate(): { opened: Promise<void>; open(): void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
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
  await expect(services.ready()).rejects.toThrow('c could not start');
  expect(events).toEqual(['start a', 'start b', 'close b', 'close a']);
});

it('starts independent services side by side; one that uses another starts after it and closes before it', async () => {
  const events: string[] = [];
  const services = new Services();
  const slow = gate();
  const a = services.start('a', async () => {
    events.push('begin a');
    await slow.opened;
    return service('a', events)();
  });
  const b = services.start('b', service('b', events));
  const c = services.start('c', async () => {
    await a;
    return service('c', events)();
  });
  // b started while a was still starting.
  await b;
  expect(events).toEqual(['begin a', 'start b']);
  slow.open();
  await services.ready();
  expect(await c).toBe('c');
  expect(services.names()).toEqual(['b', 'a', 'c']);
  await services.close();
  expect(events.slice(-3)).toEqual(['close c', 'close a', 'close b']);
});

it('closes a service that was still starting when another failed, once it has started', async () => {
  const events: string[] = [];
  const services = new Services();
  const slow = gate();
  services.start('slow', async () => {
    await slow.opened;
    return service('slow', events)();
  });
  const failing = services.start('failing', service('failing', events, true));
  const dependent = services.start('dependent', async () => {
    await failing;
    return service('dependent', events)();
  });
  const ready = services.ready();
  await expect(dependent).rejects.toThrow('failing could not start');
  slow.open();
  await expect(ready).rejects.toThrow('failing could not start');
  expect(events).toEqual(['start slow', 'close slow']);
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
