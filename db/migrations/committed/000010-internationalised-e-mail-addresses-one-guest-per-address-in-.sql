--! Previous: sha1:ee76bc70d433c2eea5fcfecb3f8f495c45f9ecc3
--! Hash: sha1:0c23696b53b9ab184e92db9def18f8fe5987cb8c
--! Message: internationalised e-mail addresses, one guest per address in any script's case

-- Internationalised e-mail addresses (RFC 6531): guests have them (ü@exämple.org), so the domain
-- accepts UTF-8 letters in the local part and in the domain's labels, as dot-atoms. Quoted local
-- parts and address literals stay refused: no guest needs them and they hide mistakes.
-- Non-ASCII starts at U+00A1 so that C1 controls and the no-break space stay out.
alter domain booking.email drop constraint if exists email_check;
alter domain booking.email drop constraint if exists email_is_an_address;
alter domain booking.email add constraint email_is_an_address check (
  length(value) <= 254
  and value ~ '^[A-Za-z0-9!#$%&''*+/=?^_`{|}~\u00A1-\U0010FFFF-]+(?:\.[A-Za-z0-9!#$%&''*+/=?^_`{|}~\u00A1-\U0010FFFF-]+)*@[A-Za-z0-9\u00A1-\U0010FFFF](?:[A-Za-z0-9\u00A1-\U0010FFFF-]{0,61}[A-Za-z0-9\u00A1-\U0010FFFF])?(?:\.[A-Za-z0-9\u00A1-\U0010FFFF](?:[A-Za-z0-9\u00A1-\U0010FFFF-]{0,61}[A-Za-z0-9\u00A1-\U0010FFFF])?)+$'
);
comment on domain booking.email is
  'An e-mail address, internationalised ones included (RFC 6531): dot-atom local part @ domain.tld, at most 254 characters.';

-- One guest per address whatever its case, for every script: lower() under the database''s own
-- collation leaves Ü alone in a C-locale database, so the column is compared with ICU''s root
-- collation, whose lower() knows every script. The unique index (restaurant_id, lower(email))
-- is rebuilt with it, and upsert_client''s ON CONFLICT (restaurant_id, lower(email)) still
-- names it.
alter table booking.clients alter column email type booking.email collate "und-x-icu";
