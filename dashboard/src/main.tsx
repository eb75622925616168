/** The dashboard's entry: takes a sign-in link's token out of the address bar, then renders the app. */
import { createRoot } from 'react-dom/client';
import { App } from './app.js';
import { adoptTokenFromFragment } from './session.js';
import './styles.css';

adoptTokenFromFragment();
createRoot(document.getElementById('root')!).render(<App />);
