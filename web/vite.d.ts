// Types of xception-gradcam/vite (vite.js): the plugin's shape, without depending on Vite's types.

/** The headers of a cross-origin isolated page (COOP same-origin, COEP require-corp). */
export declare const ISOLATION_HEADERS: Readonly<Record<'Cross-Origin-Opener-Policy' | 'Cross-Origin-Embedder-Policy', string>>;

/** A Vite plugin that sends ISOLATION_HEADERS from `vite dev` and `vite preview`. */
export declare function gradcam(): {
  name: string;
  config(): { server: { headers: Record<string, string> }; preview: { headers: Record<string, string> } };
};

export default gradcam;
