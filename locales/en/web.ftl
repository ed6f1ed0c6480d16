# Pages with forms and sessions (shared/src/web). No HTML: the caller escapes.

## The bar above every dynamic page

# $name: the signed-in person's name.
web-signed-in-as = Signed in as { $name }
web-my-space = My space
web-sign-out = Sign out
web-sign-in = Sign in

## Refusals

web-forbidden-title = Access denied
web-forbidden-body = Your account cannot open this page. Sign in with another account, or go back to your space.
web-expired-title = This form has expired
web-expired-body = For your security, the form could not be accepted. Go back, reload the page and submit it again.

## Sign-in (/sign-in)

sign-in-title = Sign in
sign-in-email = Email address
sign-in-password = Password
sign-in-submit = Sign in
sign-in-email-missing = Enter your email address.
sign-in-password-missing = Enter your password.
sign-in-refused = The email address or the password is incorrect.
# $minutes: how long until the next attempt is allowed.
sign-in-locked =
    { $minutes ->
        [one] Too many attempts. Try again in { $minutes } minute.
       *[other] Too many attempts. Try again in { $minutes } minutes.
    }
