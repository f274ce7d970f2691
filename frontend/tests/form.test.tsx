// @vitest-environment happy-dom
import { act, cleanup, renderHook, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Route, Routes, useLocation } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api/client';
import { Register } from '../src/pages/Register';
import { SignIn } from '../src/pages/SignIn';
import { useForm } from '../src/lib/useForm';
import { validateEmail, validateLoginPassword } from '../src/lib/validation';
import { fakeApi, json, renderInApp } from './support/app';

afterEach(cleanup);

describe('useForm', () => {
  const spec = (onSubmit: (v: { email: string; password: string }) => Promise<void>) => ({
    initial: { email: '', password: '' },
    validate: (v: { email: string; password: string }) => ({ email: validateEmail(v.email), password: validateLoginPassword(v.password) }),
    onSubmit,
  });

  it('shows a field error only once the field was left or the form submitted, and never submits invalid values', async () => {
    const onSubmit = vi.fn(async () => undefined);
    const { result } = renderHook(() => useForm(spec(onSubmit)));
    expect(result.current.error('email')).toBeNull();
    act(() => result.current.bind('email').onBlur());
    expect(result.current.error('email')).toBe('validation.emailRequired');
    expect(result.current.error('password')).toBeNull();
    await act(() => result.current.submit());
    expect(result.current.error('password')).toBe('validation.passwordRequired');
    expect(onSubmit).not.toHaveBeenCalled();
    act(() => result.current.setValue('email', 'ana@example.com'));
    act(() => result.current.setValue('password', 'x'));
    expect(result.current.error('email')).toBeNull();
    await act(() => result.current.submit());
    expect(onSubmit).toHaveBeenCalledWith({ email: 'ana@example.com', password: 'x' });
  });

  it('is busy while submitting and keeps the server refusal', async () => {
    let fail!: (e: Error) => void;
    const { result } = renderHook(() => useForm(spec(() => new Promise<void>((_, reject) => (fail = reject)))));
    act(() => result.current.setValue('email', 'ana@example.com'));
    act(() => result.current.setValue('password', 'x'));
    let done!: Promise<void>;
    act(() => {
      done = result.current.submit();
    });
    expect(result.current.busy).toBe(true);
    const refusal = new ApiError('invalid_credentials', 'no', 401);
    await act(async () => {
      fail(refusal);
      await done;
    });
    expect(result.current.busy).toBe(false);
    expect(result.current.serverError).toBe(refusal);
  });
});

function Where() {
  const location = useLocation();
  return <p data-testid="where">{location.pathname}</p>;
}

function pages() {
  return (
    <>
      <Routes>
        <Route path="/" element={<p>home</p>} />
        <Route path="/register" element={<Register />} />
        <Route path="/signin" element={<SignIn />} />
      </Routes>
      <Where />
    </>
  );
}

describe('sign-in and sign-up with the form hook', () => {
  it('sign-in: inline errors after a submit, the refusal in words, then the user is signed in', async () => {
    let wrong = true;
    const { client, calls } = await fakeApi(() => json(404, {}), { signedIn: false });
    const login = vi.spyOn(client, 'login').mockImplementation(async (_email, password) => {
      if (wrong) throw new ApiError('invalid_credentials', 'wrong email or password', 401);
      expect(password).toBe('calm faces 2024');
    });
    const user = userEvent.setup();
    renderInApp(pages(), client, 'es', '/signin');
    await user.click(screen.getByRole('button', { name: 'Iniciar sesión' }));
    expect(screen.getByText('Escribe tu correo electrónico.')).toBeTruthy();
    expect(screen.getByLabelText('Correo electrónico').getAttribute('aria-invalid')).toBe('true');
    expect(login).not.toHaveBeenCalled();
    await user.type(screen.getByLabelText('Correo electrónico'), 'ana@example.com');
    await user.type(screen.getByLabelText('Contraseña'), 'wrong one');
    await user.click(screen.getByRole('button', { name: 'Iniciar sesión' }));
    expect(screen.getByRole('alert').textContent).toBe('El correo o la contraseña no son correctos.');
    wrong = false;
    await user.clear(screen.getByLabelText('Contraseña'));
    await user.type(screen.getByLabelText('Contraseña'), 'calm faces 2024');
    await user.click(screen.getByRole('button', { name: 'Iniciar sesión' }));
    expect(login).toHaveBeenLastCalledWith('ana@example.com', 'calm faces 2024');
    expect(screen.getByTestId('where').textContent).toBe('/');
    expect(calls).toHaveLength(0);
  });

  it('sign-up: the password policy inline, then the new account is signed in at once', async () => {
    const { client, calls } = await fakeApi((c) => (c.path === '/auth/register' ? json(201, { id: 'u1', email: c.body.email, name: c.body.name }) : json(404, {})), {
      signedIn: false,
    });
    const login = vi.spyOn(client, 'login').mockResolvedValue(undefined);
    const user = userEvent.setup();
    renderInApp(pages(), client, 'en', '/signin');
    await user.click(screen.getByRole('link', { name: 'Create account' }));
    expect(screen.getByTestId('where').textContent).toBe('/register');
    await user.type(screen.getByLabelText('Email'), 'ana@example.com');
    await user.type(screen.getByLabelText('Password'), 'aaaaaaaaaaaa');
    await user.tab();
    expect(screen.getByText('The password needs at least 4 different characters.')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(calls).toHaveLength(0);
    await user.type(screen.getByLabelText('Name (optional)'), ' Ana ');
    await user.clear(screen.getByLabelText('Password'));
    await user.type(screen.getByLabelText('Password'), 'calm faces 2024');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(calls[0]).toMatchObject({ method: 'POST', path: '/auth/register', body: { email: 'ana@example.com', password: 'calm faces 2024', name: 'Ana' } });
    expect(login).toHaveBeenCalledWith('ana@example.com', 'calm faces 2024');
    expect(screen.getByTestId('where').textContent).toBe('/');
  });

  it('sign-up: a taken email is said in words and the form stays', async () => {
    const { client } = await fakeApi(() => json(409, { error: { code: 'email_taken', message: 'exists' } }), { signedIn: false });
    const user = userEvent.setup();
    renderInApp(<Register />, client);
    await user.type(screen.getByLabelText('Email'), 'ana@example.com');
    await user.type(screen.getByLabelText('Password'), 'calm faces 2024');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(screen.getByRole('alert').textContent).toMatch(/already/i);
    expect(screen.getByRole('button', { name: 'Create account' }).hasAttribute('disabled')).toBe(false);
  });
});
