// The synthetic shop's catalogue: a REES46-like category tree with brands and price ranges, and a
// deterministic product list drawn from it. Popularity is Zipf-like, as in real shop data.
import type { Random } from './random';

interface CategorySpec {
  code: string;
  brands: string[];
  /** Price range in the dataset's currency; products draw log-uniformly inside it. */
  price: [number, number];
  /** Relative share of traffic. */
  weight: number;
}

const categories: CategorySpec[] = [
  { code: 'electronics.smartphone', brands: ['samsung', 'apple', 'xiaomi', 'huawei', 'oppo'], price: [80, 1500], weight: 30 },
  { code: 'electronics.audio.headphone', brands: ['sony', 'jbl', 'apple', 'samsung', 'sennheiser'], price: [10, 400], weight: 8 },
  { code: 'electronics.video.tv', brands: ['samsung', 'lg', 'sony', 'philips'], price: [150, 2500], weight: 6 },
  { code: 'electronics.clocks', brands: ['casio', 'garmin', 'apple', 'samsung'], price: [20, 800], weight: 5 },
  { code: 'computers.notebook', brands: ['lenovo', 'hp', 'asus', 'acer', 'apple'], price: [250, 3000], weight: 9 },
  { code: 'computers.desktop', brands: ['hp', 'dell', 'lenovo'], price: [300, 2500], weight: 2 },
  { code: 'appliances.kitchen.refrigerators', brands: ['lg', 'samsung', 'bosch', 'beko'], price: [250, 2000], weight: 5 },
  { code: 'appliances.kitchen.washer', brands: ['bosch', 'lg', 'samsung', 'indesit'], price: [200, 1200], weight: 5 },
  { code: 'appliances.environment.vacuum', brands: ['samsung', 'philips', 'dyson', 'xiaomi'], price: [40, 700], weight: 4 },
  { code: 'apparel.shoes', brands: ['nike', 'adidas', 'puma', 'reebok'], price: [20, 250], weight: 6 },
  { code: 'furniture.living_room.sofa', brands: ['ikea', 'askona'], price: [150, 1800], weight: 2 },
  { code: 'kids.toys', brands: ['lego', 'hasbro', 'mattel'], price: [5, 200], weight: 3 },
  { code: 'construction.tools.drill', brands: ['bosch', 'makita', 'dewalt'], price: [30, 500], weight: 3 },
  { code: 'accessories.bag', brands: ['samsonite', 'xiaomi', 'nike'], price: [10, 300], weight: 2 },
];

export interface Product {
  productId: string;
  categoryId: string;
  /** Empty for some products, as in REES46 (about one in eight). */
  categoryCode: string;
  brand: string;
  price: string;
  /** Index of the category, for picking related products in a session. */
  category: number;
}

export interface Catalog {
  products: Product[][];
  categoryWeights: number[];
}

export function buildCatalog(random: Random, productsPerCategory = 200): Catalog {
  const products = categories.map((spec, c) => {
    const categoryId = (2053013552226107603n + BigInt(c) * 1_000_003n).toString();
    return Array.from({ length: productsPerCategory }, (_, n): Product => {
      const [low, high] = spec.price;
      const price = Math.exp(Math.log(low) + random.next() * (Math.log(high) - Math.log(low)));
      return {
        productId: String(1_000_000 + c * 100_000 + n * 7 + 3),
        categoryId,
        categoryCode: random.next() < 0.12 ? '' : spec.code,
        brand: random.next() < 0.1 ? '' : random.pick(spec.brands),
        price: price.toFixed(2),
        category: c,
      };
    });
  });
  return { products, categoryWeights: categories.map((c) => c.weight) };
}
