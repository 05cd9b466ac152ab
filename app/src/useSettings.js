// The shop's settings as the screens edit them: loaded once, changed in a draft, saved with the
// version they were read at. A refusal keeps the draft and its field errors; a conflict (someone
// saved since) is reported so the merchant can reload. While the draft differs from what was
// saved, App Bridge's save bar is shown (in the Shopify admin).

import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, ApiError } from './api.js';

const SAVE_BAR = 'reclaim-save-bar';

export function useSettings() {
  const [saved, setSaved] = useState(null);
  const [draft, setDraft] = useState(null);
  const [state, setState] = useState({ loading: true, saving: false, errors: [], problem: null, conflict: false, notice: null });

  const load = useCallback(async () => {
    setState((s) => ({ ...s, loading: true, problem: null, conflict: false, errors: [] }));
    try {
      const reply = await api('/admin/settings');
      setSaved(reply);
      setDraft(structuredClone(reply.settings));
      setState((s) => ({ ...s, loading: false }));
    } catch (error) {
      setState((s) => ({ ...s, loading: false, problem: error.message }));
    }
  }, []);

  useEffect(() => { load(); }, [load]);

  const dirty = useMemo(
    () => saved !== null && draft !== null && JSON.stringify(saved.settings) !== JSON.stringify(draft),
    [saved, draft],
  );

  useEffect(() => {
    const bar = window.shopify?.saveBar;
    if (!bar) return;
    (dirty ? bar.show(SAVE_BAR) : bar.hide(SAVE_BAR))?.catch?.(() => {});
  }, [dirty]);

  /** Applies `change` (a function of a copy of the draft) to the draft. */
  const edit = useCallback((change) => {
    setDraft((current) => {
      const next = structuredClone(current);
      change(next);
      return next;
    });
    setState((s) => ({ ...s, notice: null }));
  }, []);

  const save = useCallback(async () => {
    setState((s) => ({ ...s, saving: true, errors: [], problem: null, conflict: false, notice: null }));
    try {
      const reply = await api('/admin/settings', { method: 'PUT', body: { version: saved.version, settings: draft } });
      setSaved(reply);
      setDraft(structuredClone(reply.settings));
      setState((s) => ({ ...s, saving: false, notice: 'Settings saved' }));
      window.shopify?.toast?.show?.('Settings saved');
    } catch (error) {
      const refused = error instanceof ApiError ? error : new ApiError(0, { message: error.message });
      setState((s) => ({
        ...s,
        saving: false,
        errors: refused.errors,
        conflict: refused.status === 409,
        problem: refused.message,
      }));
    }
  }, [saved, draft]);

  const discard = useCallback(() => {
    setDraft(structuredClone(saved.settings));
    setState((s) => ({ ...s, errors: [], problem: null, conflict: false, notice: null }));
  }, [saved]);

  return { saved, draft, dirty, edit, save, discard, reload: load, ...state, saveBarId: SAVE_BAR };
}
