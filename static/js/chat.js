// The chat panel shared by the field page and the duty map: the channel list, the messages sent by
// seq, then the ones still waiting in the outbox.
import { gettext } from "./i18n.js";
import { channelLabel } from "./live.js";
import { escapeHtml, timeText } from "./maplayers.js";
import { setHtml } from "./ui.js";

/**
 * Fill a channel <select>: `groups` is a list of [label or null, channels]; the reader's choice is
 * kept while it is still offered. `names` is what channelLabel needs.
 */
export function renderChannels(select, groups, names) {
  const key = JSON.stringify(groups);
  if (select.dataset.key === key) return;
  const chosen = select.value;
  const options = (channels) =>
    channels.map((c) => `<option value="${escapeHtml(c)}">${escapeHtml(channelLabel(c, names))}</option>`).join("");
  select.innerHTML = groups
    .map(([label, channels]) =>
      label ? `<optgroup label="${escapeHtml(label)}">${options(channels)}</optgroup>` : options(channels),
    )
    .join("");
  if (groups.some(([, channels]) => channels.includes(chosen))) select.value = chosen;
  select.dataset.key = key;
}

/** This evening's messages in a list: the page's history (chat event frames), then what arrives. */
export class ChatLog {
  constructor(list, { history, names }) {
    this.list = list; // null on a page without chat (the partner's map)
    this.names = names;
    this.sent = new Map(history.map((event) => [event.seq, event.data]));
  }

  /** Keep a chat event unless it is listed already (a replay sends it again); true when it is new. */
  add(event) {
    if (this.sent.has(event.seq)) return false;
    this.sent.set(event.seq, event.data);
    return true;
  }

  /**
   * Draw the messages sent, by seq, then the ones still waiting in `outbox`; scroll to the newest
   * only when something changed, so reading older lines is not interrupted.
   */
  render(outbox) {
    if (!this.list) return;
    const channel = (c) => `<span class="tag">${escapeHtml(channelLabel(c, this.names))}</span>`;
    const waiting = (outbox?.list() ?? []).filter((item) => item.frame.type === "chat");
    const lines = [...this.sent]
      .sort((a, b) => a[0] - b[0])
      .map(
        ([seq, m]) =>
          `<li data-seq="${seq}"><span class="who">${escapeHtml(m.author)}</span> ${channel(m.channel)}` +
          ` <time>${timeText(m.created_at)}</time><p>${escapeHtml(m.text)}</p></li>`,
      )
      .concat(
        waiting.map(
          (item) =>
            `<li class="waiting"><span class="tag">${escapeHtml(gettext("Väntar"))}</span> ${channel(item.frame.channel)}` +
            `<p>${escapeHtml(item.frame.text)}</p></li>`,
        ),
      );
    if (setHtml(this.list, lines.join(""))) this.list.scrollTop = this.list.scrollHeight;
  }
}

/** Send what is typed in #chat-form to the channel chosen in #chat-channel (a page without chat has no form). */
export function sendChatFrom(live) {
  const form = document.getElementById("chat-form");
  form?.addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = form.elements.text;
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    await live.send("chat", { channel: document.getElementById("chat-channel").value, text });
  });
}
