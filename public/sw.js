// Coach Chat's service worker: notifications that work on phones (Android Chrome allows
// them only through a service worker), and the app shell kept for offline starts.
//
// The shell is cached per version of index.html: a cache named after a digest of the page
// holds that page and exactly the files it names (trunk gives them content hashes). So an
// offline start always gets a page and the wasm, JS and CSS built with it — never a new
// page with an old wasm. Each start online fetches the page first (network first); when it
// changed (a deploy), its files are cached under the new version and older versions are
// deleted. The API lives on another origin and is never touched here.

const PREFIX = 'coach-chat-shell-';
const PAGE = 'index.html';

self.addEventListener('install', (event) => {
  // Writes (sending a message, marking read) go straight to the network, without waking
  // this worker for each (Chromium's static routing; elsewhere `fetch` below lets them pass).
  if (event.addRoutes) {
    event
      .addRoutes(['POST', 'PATCH', 'DELETE'].map((method) => ({
        condition: { requestMethod: method },
        source: 'network',
      })))
      .catch(() => {});
  }
  event.waitUntil(
    fetch('./', { cache: 'no-cache' })
      .then((response) => (response.ok ? keepShell(response) : null))
      .catch(() => null)
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(self.clients.claim());
});

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET' || new URL(request.url).origin !== self.location.origin) {
    return;
  }
  if (request.mode === 'navigate') {
    event.respondWith(page(request, event));
  } else if (new URL(request.url).pathname.endsWith('/config.json')) {
    event.respondWith(networkFirst(request));
  } else {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});

async function page(request, event) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      event.waitUntil(keepShell(response.clone()).catch(() => {}));
    }
    return response;
  } catch (offline) {
    const cached = await currentPage();
    if (cached) {
      return cached;
    }
    throw offline;
  }
}

async function networkFirst(request) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await currentCache();
      if (cache) {
        await cache.put(request, response.clone());
      }
    }
    return response;
  } catch (offline) {
    const cached = await caches.match(request);
    if (cached) {
      return cached;
    }
    throw offline;
  }
}

/// The cache whose page is complete (the page is stored last), newest first.
async function currentCache() {
  for (const name of (await caches.keys()).filter((n) => n.startsWith(PREFIX)).reverse()) {
    const cache = await caches.open(name);
    if (await cache.match(PAGE)) {
      return cache;
    }
  }
  return null;
}

async function currentPage() {
  const cache = await currentCache();
  return cache ? cache.match(PAGE) : null;
}

/// Caches a fetched index.html with every file it names, under its own version; then
/// deletes the other versions.
async function keepShell(response) {
  const html = await response.text();
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(html));
  const version = PREFIX + Array.from(new Uint8Array(digest).slice(0, 8))
    .map((b) => b.toString(16).padStart(2, '0')).join('');
  const names = await caches.keys();
  if (names.includes(version) && (await (await caches.open(version)).match(PAGE))) {
    return;
  }
  // URLs made absolute, so a file named twice is fetched once (addAll refuses duplicates).
  const files = new Set([new URL('config.json', self.registration.scope).href]);
  // Attribute values may be quoted or not (the release build's HTML is minified).
  // A name ends where its value does: `config.json` is not `config.js`.
  for (const match of html.matchAll(/(?:href|src|module_or_path:)\s*=?\s*["']?([^"'\s>]+\.(?:js|wasm|css|png|svg|webmanifest))(?=["'\s>])/g)) {
    files.add(new URL(match[1], self.registration.scope).href);
  }
  const cache = await caches.open(version);
  await cache.addAll([...files]);
  await cache.put(PAGE, new Response(html, { headers: { 'Content-Type': 'text/html; charset=utf-8' } }));
  await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== version).map((n) => caches.delete(n)));
}

// A click on a notification: focus a window of the app and open the conversation there,
// or open the app on it.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const conversation = event.notification.data && event.notification.data.conversation;
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = windows.find((w) => w.focused) || windows[0];
    if (open) {
      // Told first: focusing may be refused (the browser decides), showing the conversation not.
      open.postMessage({ type: 'open-conversation', conversation });
      await open.focus();
      return;
    }
    const url = new URL('./', self.registration.scope);
    if (conversation) {
      url.searchParams.set('conversation', conversation);
    }
    await self.clients.openWindow(url.href);
  })());
});
