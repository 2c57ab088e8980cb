// Forms show API problems next to the right input (aria-invalid + aria-describedby) and the
// form-level message in an alert.
import { fireEvent, render, screen } from '@testing-library/svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/lib/api';
import Field from '../src/lib/components/Field.svelte';
import SignIn from '../src/pages/SignIn.svelte';
import SignUp from '../src/pages/SignUp.svelte';
import Privacy from '../src/pages/Privacy.svelte';
import { session } from '../src/lib/session.svelte';
import { jsonResponse, useEnglish } from './helpers';

vi.mock('../src/lib/connection', () => ({
  live: { reconnect: vi.fn(), subscribe: vi.fn(() => () => {}), state: { subscribe: (f: (s: string) => void) => (f('open'), () => {}) } },
  startLive: vi.fn(),
}));

beforeEach(() => {
  useEnglish();
  session.user = null;
  session.ready = true;
});
afterEach(() => vi.unstubAllGlobals());

describe('Field', () => {
  it('ties the field code and limit to the input', () => {
    const error = new ApiError(400, { code: 'invalid', fields: { displayName: 'too_long' }, limits: { displayName: 60 } });
    render(Field, { id: 'displayName', label: 'Display name', hint: 'A hint', value: 'x', error });
    const input = screen.getByLabelText('Display name');
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(input.getAttribute('aria-describedby')).toBe('displayName-hint displayName-error');
    expect(document.getElementById('displayName-error')).toHaveTextContent('This is too long. At most 60 characters.');
  });

  it('has no error markup without a problem', () => {
    render(Field, { id: 'email', label: 'Email', type: 'email', value: '' });
    const input = screen.getByLabelText('Email');
    expect(input).not.toHaveAttribute('aria-invalid');
    expect(input).not.toHaveAttribute('aria-describedby');
    expect(input).toHaveAttribute('dir', 'ltr');
  });
});

describe('Sign in', () => {
  it('shows the wrong-credentials message for 401 and focuses it', async () => {
    vi.stubGlobal('fetch', vi.fn().mockResolvedValue(jsonResponse(401, { error: { code: 'unauthorized', message: 'x' } })));
    render(SignIn);
    await fireEvent.input(screen.getByLabelText('Email address'), { target: { value: 'a@example.org' } });
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'wrong password' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    const alert = await screen.findByText('The email address or the password is not correct.');
    expect(alert.closest('[role="alert"]')).not.toBeNull();
  });

  it('marks the invalid field', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn().mockResolvedValue(jsonResponse(400, { error: { code: 'invalid', message: 'x', fields: { email: 'invalid_email' } } })),
    );
    render(SignIn);
    await fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await screen.findByText('This is not a valid email address.');
    const email = screen.getByLabelText('Email address');
    expect(email).toHaveAttribute('aria-invalid', 'true');
    expect(document.activeElement).toBe(email);
    expect(screen.getByLabelText('Password')).not.toHaveAttribute('aria-invalid');
  });
});

describe('Sign up', () => {
  it('sends the form and reports a taken email next to the email input', async () => {
    const fetch = vi
      .fn()
      .mockResolvedValue(jsonResponse(409, { error: { code: 'conflict', message: 'x', fields: { email: 'taken' } } }));
    vi.stubGlobal('fetch', fetch);
    render(SignUp);
    await fireEvent.input(screen.getByLabelText('Email address'), { target: { value: 'a@example.org' } });
    await fireEvent.input(screen.getByLabelText('Display name'), { target: { value: 'Amina' } });
    await fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'a long password' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Create my account' }));
    await screen.findByText('This is already in use.');
    expect(JSON.parse(fetch.mock.calls[0][1].body)).toEqual({
      email: 'a@example.org',
      password: 'a long password',
      displayName: 'Amina',
      language: 'en',
    });
    expect(screen.getByLabelText('Email address')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByRole('alert')).toHaveTextContent('This conflicts with something that already exists.');
  });
});

describe('Privacy', () => {
  it('states the retention periods', () => {
    render(Privacy);
    expect(screen.getByRole('heading', { level: 1 })).toHaveTextContent('Privacy notice');
    expect(document.body.textContent).toContain('30 days');
    expect(document.body.textContent).toContain('1 hour');
    expect(document.body.textContent).toContain('14 days');
    expect(document.body.textContent).toContain('Until you delete your account');
  });
});
