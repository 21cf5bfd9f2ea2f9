// The chat list shared by the field page and the duty map: sent messages by seq, then the
// ones still waiting in the outbox.
import { setHtml } from "./live.js";
import { escapeHtml, timeText } from "./maplayers.js";

/**
 * Draw `sent` ([seq, message] pairs) and `waiting` (outbox items) into `list`;
 * scroll to the newest only when something changed, so reading older lines is not interrupted.
 */
export function renderChatList(list, { sent, waiting, channelName, waitingLabel }) {
  const lines = [...sent]
    .sort((a, b) => a[0] - b[0])
    .map(
      ([seq, m]) =>
        `<li data-seq="${seq}"><span class="who">${escapeHtml(m.author)}</span> <span class="tag">${escapeHtml(channelName(m.channel))}</span>` +
        ` <time>${timeText(m.created_at)}</time><p>${escapeHtml(m.text)}</p></li>`,
    )
    .concat(
      waiting.map(
        (item) =>
          `<li class="waiting"><span class="tag">${escapeHtml(waitingLabel)}</span> <span class="tag">${escapeHtml(channelName(item.frame.channel))}</span>` +
          `<p>${escapeHtml(item.frame.text)}</p></li>`,
      ),
    );
  if (setHtml(list, lines.join(""))) list.scrollTop = list.scrollHeight;
}
