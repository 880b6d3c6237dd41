// The header's model picker: the owner picks, per conversation, one of the
// models the provider lists (GET /api/model/models); the choice is saved on
// the conversation (PATCH /api/conversations/{id} {model}) and its turns use
// it. "Default" is the server's model. Members never see it (the server
// refuses a member's pick with 403), and it is hidden until a conversation
// exists: a new conversation starts on the server's model. Methods of the
// Chat view (views/chat.js); `this` is the Chat.

import { h, announce } from '../dom.js';
import { api } from '../api.js';

export const modelPickerMethods = {
  /** modelPicker returns the header's <select>, or null for a member. */
  modelPicker() {
    const me = this.ctx.state.me;
    if (!me || !me.user || me.user.role !== 'owner') return null;
    this.picker = h('select', {
      id: 'model-picker', class: 'model-picker', hidden: true,
      'aria-label': 'Model for this conversation', title: 'Model for this conversation',
    });
    this.pickerModels = null;
    this.picker.addEventListener('change', () => this.pickModel(this.picker.value));
    this.loadPickerModels();
    return this.picker;
  },

  async loadPickerModels() {
    try {
      const res = await api.get('/api/model/models');
      this.pickerModels = res.models || [];
    } catch {
      this.pickerModels = []; // no listing: no picker (Settings → Model still works)
    }
    this.syncModelPicker();
  },

  /** syncModelPicker shows the open conversation's model, or hides the picker. */
  syncModelPicker() {
    const p = this.picker;
    if (!p) return;
    const c = this.convId ? this.conv(this.convId) : null;
    if (!c || !this.pickerModels || !this.pickerModels.length) {
      p.hidden = true;
      return;
    }
    const server = (this.ctx.state.model && this.ctx.state.model.model) || '';
    const names = [...this.pickerModels];
    if (c.model && !names.includes(c.model)) names.push(c.model); // picked before the server stopped listing it
    const opts = [h('option', { value: '', text: server ? `Default (${server})` : 'Default model' }),
      ...names.map((m) => h('option', { value: m, text: m }))];
    p.replaceChildren(...opts);
    p.value = c.model || '';
    p.dataset.conversation = c.id;
    p.hidden = false;
  },

  async pickModel(model) {
    const id = this.picker.dataset.conversation;
    if (!id) return;
    this.picker.disabled = true;
    try {
      const updated = await api.patch(`/api/conversations/${encodeURIComponent(id)}`, { model });
      this.upsertConv(updated);
      announce(model ? `This conversation now uses ${model}.` : 'This conversation now uses the default model.');
    } catch (ex) {
      this.showComposerError(ex.message);
    } finally {
      this.picker.disabled = false;
      this.syncModelPicker();
    }
  },
};
