// The sidebar's "Your profile" form: a signed-in member's display name, status and avatar (setprofile), which each of
// its rooms is told of live (profiles.js shows them beside messages). The avatar is an image uploaded as an avatar of
// the person's own, in no room (`attach` with purpose "avatar", then the presigned POST, attachments.js), which
// setprofile reads back and keeps.
import { post } from './attachments.js';
import { registerFeature } from './features.js';
import { avatarImage, knowOwnProfile } from './profiles.js';
import { ATTACHMENT_LIMITS, ATTACHMENT_TYPES } from './roomcast.js';
import { state } from './state.js';
import { toast, ui } from './ui.js';

const byId = (id) => document.getElementById(id);

/**
 * Shows the avatar the server kept (the reply to setprofile), and "Remove avatar" while there is one; the person's
 * own messages show the profile too (profiles.js).
 */
function showOwnAvatar(profile) {
  knowOwnProfile(profile);
  const img = avatarImage(profile.avatar, 'profile-avatar-image');
  byId('profile-avatar-preview').replaceChildren(...(img ? [img] : []));
  byId('profile-avatar-remove').hidden = !profile.avatar;
}

/** Uploads the picked image as the person's own avatar upload and makes it the avatar. */
async function setAvatar(file) {
  const chat = state.chat;
  if (!chat) return;
  if (!ATTACHMENT_TYPES.includes(file.type))
    throw new Error(`An avatar is a PNG, JPEG, GIF or WebP image (this is ${file.type || 'unknown'}).`);
  if (file.size > ATTACHMENT_LIMITS.maxBytes)
    throw new Error(`The image is too large: at most ${ATTACHMENT_LIMITS.maxBytes / 1024 / 1024} MiB.`);
  const granted = await chat.requestAvatarUpload(file.type, file.size);
  await post(granted, file, () => {});
  return chat.setProfile({ avatar: { key: granted.key } });
}

/** The sidebar's "Your profile" form (signed in only): display name, status and avatar, told to every room of yours. */
function bindProfileForm() {
  ui.profileForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const chat = state.chat;
    if (!chat) return;
    const displayName = ui.profileDisplayName.value.trim();
    chat.setProfile({ ...(displayName && { displayName }), status: ui.profileStatus.value.trim() }).then(
      (profile) => {
        showOwnAvatar(profile);
        toast('Your rooms see your profile now.', { kind: 'info', timeout: 2500 });
      },
      (err) => toast(err.message, { title: 'Could not save your profile' }),
    );
  });
  const picker = byId('profile-avatar-file');
  picker.addEventListener('change', () => {
    const file = picker.files?.[0];
    picker.value = '';
    if (!file) return;
    setAvatar(file).then(
      (profile) => {
        if (!profile) return;
        showOwnAvatar(profile);
        toast('Your rooms see your avatar now.', { kind: 'info', timeout: 2500 });
      },
      (err) => toast(err.message, { title: 'Could not set your avatar' }),
    );
  });
  byId('profile-avatar-remove').addEventListener('click', () => {
    state.chat
      ?.setProfile({ avatar: null })
      .then(showOwnAvatar, (err) => toast(err.message, { title: 'Could not remove your avatar' }));
  });
}

/**
 * The person's profile as the server keeps it: read with each `myrooms` answer (the page asks one on every connect,
 * so a reload shows it at once), and changed on another device of theirs (a pushed `profile` without `roomId`: only
 * the person's own connections get one). The form shows it; a field being typed in keeps what is typed.
 */
function watchOwnProfile(chat) {
  const show = (profile) => {
    if (state.chat !== chat) return;
    for (const [input, value] of [
      [ui.profileDisplayName, profile.displayName],
      [ui.profileStatus, profile.status],
    ])
      if (document.activeElement !== input) input.value = value ?? '';
    showOwnAvatar(profile);
  };
  chat.on('profile', (profile) => {
    if (profile.roomId === undefined) show(profile);
  });
  chat.on('frame', ({ frame }) => {
    if (frame?.type === 'myrooms' && frame.profile?.userId) show(frame.profile);
  });
}

/** Shown to signed-in people only: without sign-in there is no identity a profile could belong to. */
export function showProfileForm() {
  ui.profilePanel.hidden = !state.signedIn;
}

registerFeature('profileForm', { bind: bindProfileForm, watch: watchOwnProfile });
