// The top bar's "⋯" menu: at phone widths (responsive.css) the room's tools (notices, pins, blocked, reports,
// moderation, search) fold into it, as a phone chat keeps its header to the room's name and one overflow button. The
// tools are the same elements as on a wide window, so each opens its panel as it does there; choosing one closes the
// menu, and so do a click outside it and Escape. On a wide window the button is not shown and the menu never opens.

import { registerFeature } from './features.js';
import { byId } from './ui.js';

function bindTopbarMenu() {
  const more = byId('topbar-more');
  const tools = byId('topbar-tools');
  const bar = more?.closest('.topbar');
  if (!more || !tools || !bar) return;
  const isOpen = () => bar.classList.contains('tools-open');
  const setOpen = (open) => {
    bar.classList.toggle('tools-open', open);
    more.setAttribute('aria-expanded', String(open));
  };
  more.addEventListener('click', () => setOpen(!isOpen()));
  // A tool chosen: its panel opens under the bar, the menu closes (the notices select closes it once changed).
  tools.addEventListener('click', (event) => {
    if (event.target.closest('button')) setOpen(false);
  });
  tools.addEventListener('change', () => setOpen(false));
  document.addEventListener('click', (event) => {
    if (isOpen() && !tools.contains(event.target) && !more.contains(event.target)) setOpen(false);
  });
  document.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || !isOpen()) return;
    setOpen(false);
    more.focus();
  });
}

registerFeature('topbar', { bind: bindTopbarMenu });
